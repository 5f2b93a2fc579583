"""The jambonz voice webhook protocol: typed callbacks in, verb arrays out."""
