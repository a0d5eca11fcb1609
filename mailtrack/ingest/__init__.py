"""How mail gets in: sources (IMAP, Maildir), the raw archive, and the archiving step."""
