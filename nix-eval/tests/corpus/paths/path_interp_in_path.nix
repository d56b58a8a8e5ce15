let x = "sub"; in ./${x}/file
