"""The catalogue: which subjects, topics and skills a tenant can be given practice in, from its
bank and from the generators, and the spellings every subject and topic is matched against."""
