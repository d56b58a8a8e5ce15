"plain"
