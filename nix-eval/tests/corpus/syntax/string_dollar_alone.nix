"a$b $ c$"
