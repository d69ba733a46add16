"""occur: self-hostable, HubSpot-compatible custom behavioral events."""

__version__ = "0.1.0"
