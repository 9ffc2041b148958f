"""An independent check of Offpeak's answers: own question log, own ground truth, own pandas oracle."""
