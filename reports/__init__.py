"""Report generators: the French HTML report (and, later, the other formats) from results.json and evidence."""
