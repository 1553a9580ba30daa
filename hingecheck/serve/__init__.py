"""The clinician portal (``hingecheck serve``): uploads, accounts, review."""
