"""UK postcodes, Westminster constituencies and their representatives, loaded from files."""
