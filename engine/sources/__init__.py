"""Data sources ``gamma fetch`` downloads from (FRED/ALFRED); see ``docs/fetch.md``."""
