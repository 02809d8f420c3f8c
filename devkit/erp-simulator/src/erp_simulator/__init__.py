"""A simulator of the 智邦 ERP open API for development and tests; never deployed."""
