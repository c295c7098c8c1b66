"""zap engine: parser of the tool's report files into engines.records records."""
