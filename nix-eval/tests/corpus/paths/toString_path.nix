toString ./file
