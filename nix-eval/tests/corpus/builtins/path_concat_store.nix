"" + ./data.txt
