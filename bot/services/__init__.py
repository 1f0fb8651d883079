"""Use cases, one module per domain concept. Every change of state has exactly one function here.

Services take the acting member's id and plain values, do their work in one transaction, check
permissions through `policy`, and return plain objects. Nothing here imports aiogram.
"""
