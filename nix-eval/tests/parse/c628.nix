"

abc
