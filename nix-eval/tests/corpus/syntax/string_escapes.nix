"tab\there\nnl \"q\" back\\slash \$ dollar \${x}"
