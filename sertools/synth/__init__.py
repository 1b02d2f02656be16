"""The built-in audio-visual corpus: simulated voices and faces that show emotions.

- ``voice``: a source-filter speech synthesizer (Fant 1960) whose prosody and
  voice quality follow the emotion (Murray & Arnott 1993; Banse & Scherer
  1996; Juslin & Laukka 2003).
- ``face``: drawn faces whose expressions are combinations of FACS action
  units (Ekman & Friesen 1978), still or talking in step with the voice.
- ``corpus``: speakers, clips, splits and two recording domains, laid out
  like the experiments of the paper (Zhang et al., Knowledge-Based Systems
  2021), and the face image set for the face teacher.

The cue values and what they are based on are in docs/emotion-cues.md.
"""
