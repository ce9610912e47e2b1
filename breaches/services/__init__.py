"""Writes of the breach register: the record and its decisions
(`register`), subject notices (`notices`), the clock's warnings (`alerts`)
and the evidence pack (`packs`)."""
