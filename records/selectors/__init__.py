"""Reads of the records of processing: the data map (`datamap`), the record
assembled from it (`record`), their value types (`facts`) and the officer's
part (`officer`)."""
