"""The item bank: questions, their keys and where they came from."""
