"""Language: extraction of items, owners and dates; reply intent. spaCy stays inside."""
