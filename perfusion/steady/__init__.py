"""The steady stage: supply pressures and perfusion (with calibration), inlets, the catheter territory, interstitial fluid pressure, embolisation."""
