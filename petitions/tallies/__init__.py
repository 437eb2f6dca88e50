"""The counts people see: tallies per action, day, hour, area and referrer (read model).

Written only by the count worker (``petitions.counting``), which folds signatures into them;
read by every page and report. Keeping them apart from the fold lets signing show a count
without depending on the code that counts.
"""
