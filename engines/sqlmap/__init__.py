"""sqlmap engine: parses sqlmap's output-directory log and its results CSV."""
