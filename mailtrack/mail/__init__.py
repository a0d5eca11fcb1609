"""Mail as data: parsing, HTML to text, machine-mail guards, quotes, composing."""
