"""Who is asking: the portal and scopes an access token grants."""

from __future__ import annotations

from dataclasses import dataclass

from occur.errors import MissingScopes


@dataclass(frozen=True)
class Principal:
    portal_id: int
    token_id: int
    scopes: frozenset[str]

    def require(self, *needed: str) -> None:
        """Raise MissingScopes naming what this token lacks, if it lacks any."""
        missing = [s for s in needed if s not in self.scopes]
        if missing:
            raise MissingScopes(
                "This request needs the scope(s) " + ", ".join(missing) + ".",
                context={"requiredScopes": missing},
            )

    def require_any(self, *alternatives: str) -> None:
        """Raise MissingScopes unless the token holds at least one of the scopes."""
        if not any(s in self.scopes for s in alternatives):
            raise MissingScopes(
                "This request needs one of the scopes " + ", ".join(alternatives) + ".",
                context={"requiredScopes": list(alternatives)},
            )
