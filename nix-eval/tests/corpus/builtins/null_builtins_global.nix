[ (isNull null) true false null ]
