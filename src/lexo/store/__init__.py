"""Storage: the only package that speaks SQL or writes LEXO's data folder."""
