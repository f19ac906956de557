"""The promise register: documents and their readers -> proposals -> the register."""
