#!/usr/bin/env bash
# Rebuilds the three example pieces in outputs/ with the bundled model: tab, MIDI, MusicXML, Guitar Pro 5
# and the PNG MuseScore 3 renders of the MusicXML. Run from the repository root.
set -euo pipefail
for seed in 1 2 3; do
  python -m tabgen compose --bars 16 --seed "$seed" --tempo 100 \
    --tab "outputs/piece-$seed.txt" --midi "outputs/piece-$seed.mid" \
    --musicxml "outputs/piece-$seed.musicxml" --gp5 "outputs/piece-$seed.gp5" > /dev/null
  QT_QPA_PLATFORM=offscreen mscore3 -r 100 -o "outputs/piece-$seed.png" "outputs/piece-$seed.musicxml" 2>/dev/null
done
