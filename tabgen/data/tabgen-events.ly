%% Included before a Mutopia score by a wrapper file (tabgen/mutopia.py): unfolds every
%% repeat and writes one tab-separated line per note event of every Voice, as the layout engraves it,
%% to the file named by the Scheme variable tabgen-events-file:
%%   score
%%   note  VOICE  BAR  MEASURE-POS  MOMENT  SOUNDING-MIDI  STRING-OR-0  TIED(0/1)  GRACE(0/1)  METER
%%   tie   VOICE  MOMENT
%%   key   MOMENT  TONIC-STEP(0=C)  TONIC-ALTERATION  ALTERATION-OF-THE-THIRD  (per Staff)
#(define tabgen-port (open-file (getenv "TABGEN_EVENTS") "a"))
#(define tabgen-voices 0)
#(set! toplevel-music-functions (cons (lambda (m) (unfold-repeats '() m)) toplevel-music-functions))

#(define (tabgen-moment m)
   (format #f "~a" (ly:moment-main m)))

#(define (tabgen-string-number event)
   (let loop ((arts (ly:event-property event 'articulations '())))
     (cond ((null? arts) 0)
           ((memq 'string-number-event (ly:event-property (car arts) 'class '()))
            (ly:event-property (car arts) 'string-number 0))
           (else (loop (cdr arts))))))

#(define (tabgen-tied? event)
   (any (lambda (a) (memq 'tie-event (ly:event-property a 'class '())))
        (ly:event-property event 'articulations '())))

#(define (tabgen-voice-listener context)
   (set! tabgen-voices (1+ tabgen-voices))
   (let ((id tabgen-voices))
     (make-engraver
      (listeners
       ((note-event engraver event)
        (let* ((ctx (ly:translator-context engraver))
               (mom (ly:context-current-moment ctx))
               (pitch (ly:event-property event 'pitch #f))
               (tr (ly:context-property ctx 'instrumentTransposition #f))
               (ts (ly:context-property ctx 'timeSignatureFraction '(4 . 4)))
               (semis (if (ly:pitch? pitch)
                          (+ 60 (ly:pitch-semitones pitch) (if (ly:pitch? tr) (ly:pitch-semitones tr) 0))
                          #f)))
          (if semis
              (begin
                (format tabgen-port "note\t~a\t~a\t~a\t~a\t~a\t~a\t~a\t~a\t~a/~a\n"
                        id
                        (ly:context-property ctx 'currentBarNumber 0)
                        (tabgen-moment (ly:context-property ctx 'measurePosition (ly:make-moment 0)))
                        (tabgen-moment mom)
                        semis
                        (tabgen-string-number event)
                        (if (tabgen-tied? event) 1 0)
                        (if (zero? (ly:moment-grace mom)) 0 1)
                        (car ts) (cdr ts))
                (force-output tabgen-port)))))
       ((tie-event engraver event)
        (format tabgen-port "tie\t~a\t~a\n" id
                (tabgen-moment (ly:context-current-moment (ly:translator-context engraver)))))))))

#(define (tabgen-staff-listener context)
   (make-engraver
    (listeners
     ((key-change-event engraver event)
      (let* ((tonic (ly:event-property event 'tonic #f))
             (alist (ly:event-property event 'pitch-alist '())))
        (if (ly:pitch? tonic)
            (let* ((step (ly:pitch-notename tonic))
                   (third (modulo (+ step 2) 7))
                   (third-alt (assv-ref alist third)))
              (format tabgen-port "key\t~a\t~a\t~a\t~a\n"
                      (tabgen-moment (ly:context-current-moment (ly:translator-context engraver)))
                      step (ly:pitch-alteration tonic) (or third-alt 0))
              (force-output tabgen-port))))))))

#(define (tabgen-score-listener context)
   (make-engraver
    ((initialize engraver)
     (display "score\n" tabgen-port)
     (force-output tabgen-port))))

\layout {
  % the events are all we want: no grobs, no line breaking (half the time; the same events)
  \context { \Score skipTypesetting = ##t }
  \context { \Voice \consists #tabgen-voice-listener }
  \context { \Staff \consists #tabgen-staff-listener }
  \context { \Score \consists #tabgen-score-listener }
}
