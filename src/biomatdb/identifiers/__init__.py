"""Outside identifiers of materials (contract section 8): each scheme's syntax, its
normal spelling, and where a person can look the identifier up."""
