-- GET one path as fast as the connections allow; the report is the same as for signing.
done = dofile(os.getenv("BENCH_WRK_DIR") .. "/report.lua")
