./file.txt
