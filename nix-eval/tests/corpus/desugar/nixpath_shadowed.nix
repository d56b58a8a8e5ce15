let __nixPath = "not a list"; in <corpus>
