toString ./some/file
