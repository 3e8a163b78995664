"""Writes benches/day-1s.csv: one synthetic day of traffic at 1-second resolution (86,400
rows), the input of the fluid model's speed figure in BENCHMARKS.md. A daily cosine
(trough 04:00, peak 16:00), a lunchtime bump and per-second multiplicative noise, from a
fixed seed so the file is reproducible: python3 benches/make_day_1s.py"""
import math
import random

rng = random.Random(20261203)
with open("benches/day-1s.csv", "w") as out:
    out.write("second,rps\n")
    for s in range(86_400):
        h = s / 3600
        base = 55 - 45 * math.cos(2 * math.pi * (h - 4) / 24)
        lunch = 25 * math.exp(-((h - 12.5) ** 2) / 0.5)
        noise = rng.lognormvariate(0, 0.1)
        out.write(f"{s},{(base + lunch) * noise:.2f}\n")
