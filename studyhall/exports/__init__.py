"""Spreadsheet builders: rows in, bytes out. No request code here; routes send the result."""
