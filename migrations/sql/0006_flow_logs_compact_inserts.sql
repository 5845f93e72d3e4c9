-- Inserts into flow_logs write compact parts (one file for all columns)
-- until a part passes 256 MB or 1M rows; merges write wide parts (a file
-- per column) as before. The ingest sends ~100k records per INSERT so
-- that a dashboard query waits a fraction of a second for one, and a wide
-- part of that size is ~200 files to write and sync: with compact parts,
-- a 1M-record ingest in 65k-record inserts ran at 0.59–0.79× the storage
-- limit instead of 0.37–0.52× (make bench, same run). Reads are not
-- affected: parts that size are merged within minutes.
ALTER TABLE {{local "flow_logs"}}{{onCluster}}
    MODIFY SETTING min_bytes_for_wide_part = 268435456, min_rows_for_wide_part = 1048576
