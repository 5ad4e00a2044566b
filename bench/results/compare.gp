set terminal pngcairo size 1000,560 font ",10"
set output "bench/results/compare.png"
set title "Produce, one producer process on loopback, records/s (log scale)"
set style data histogram
set style histogram cluster gap 1
set style fill solid 0.85 border -1
set boxwidth 0.9
set logscale y
set yrange [1000:*]
set ylabel "records/s"
set grid ytics
set key outside right top vertical
plot "bench/results/compare.dat" using 2:xtic(1) title "actorlog, page cache", \
     "" using 3 title "actorlog, fsync 1 s", \
     "" using 4 title "actorlog, fsync per ack", \
     "" using 5 title "actorlog, fsync 1 s, batch.size 64 KiB", \
     "" using 6 title "Redis, everysec", \
     "" using 7 title "Redis, always", \
     "" using 8 title "NATS JetStream"
