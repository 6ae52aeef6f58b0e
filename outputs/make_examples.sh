#!/usr/bin/env bash
# Rebuilds the example pieces in outputs/ with the bundled model: tab, MIDI, MusicXML, Guitar Pro 5,
# and pictures of the score engraved by verovio from our MusicXML (SVG, and PNG through headless
# Chromium), which show our strings and frets. Then the Minuet from ../shared (where present), and a
# screenshot of `tabgen view` on piece 2. Run from the repository root.
#   outputs/make_examples.sh            # compose the pieces again, then draw them
#   outputs/make_examples.sh --pictures # only draw the pieces already in outputs/ (no model needed)
set -euo pipefail
for seed in 1 2 3; do
  if [ "${1:-}" != "--pictures" ]; then
    python -m tabgen compose --bars 16 --seed "$seed" --tempo 100 \
      --tab "outputs/piece-$seed.txt" --midi "outputs/piece-$seed.mid" \
      --musicxml "outputs/piece-$seed.musicxml" --gp5 "outputs/piece-$seed.gp5" > /dev/null
  fi
  python -m tabgen render "outputs/piece-$seed.txt" --tempo 100 --title "Composed by tabgen (bundled model, seed $seed)" \
    --svg "outputs/piece-$seed.svg" --png "outputs/piece-$seed.png" > /dev/null
done
minuet=../shared/realworld-tabs/classtab-bach-minuet-anh116-nolabels.txt
if [ -f "$minuet" ]; then
  python -m tabgen render "$minuet" --title "Minuet in G, BWV Anh. 116" --tempo 100 \
    --midi outputs/minuet-anh116.mid --musicxml outputs/minuet-anh116.musicxml \
    --gp5 outputs/minuet-anh116.gp5 --svg outputs/minuet-anh116.svg --png outputs/minuet-anh116.png > /dev/null
fi
python -m tabgen.view.browser screenshot outputs/piece-2.txt outputs/view-piece-2.png "Composed by tabgen (bundled model, seed 2)"
