{ a = throw "thrown from helper"; }.a
