"""idstore: holds users and their authenticators, decides every authentication, audits it."""

__version__ = "0.1.0"
