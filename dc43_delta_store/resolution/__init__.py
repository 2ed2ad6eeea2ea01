"""Which version a consumer gets: version ranges and explained choices."""
