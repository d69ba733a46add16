"""Allow `python -m occur` as a synonym for the `occur` command."""

from occur.cli import main

if __name__ == "__main__":
    main()
