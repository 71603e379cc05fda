"""The data lake: candle sources, Bronze/Silver/Gold layers, quality checks, manifests.

- :mod:`mlta.data.sources`: the CandleSource Protocol, ``make_source`` (sample, files, binance)
- :mod:`mlta.data.bronze`: raw candles, append-only batches, resume point
- :mod:`mlta.data.quality` and :mod:`mlta.data.silver`: clean, checked candle streams
- :mod:`mlta.data.gold`: features per symbol, the Gold contract the trainer reads
- :mod:`mlta.data.lake`: layout, atomic version directories, ``read_dataset``
- :mod:`mlta.data.manifest` and :mod:`mlta.data.catalog`: lineage and listing

Nothing here is imported by ``mlta`` itself: pandas and pyarrow load only when used.
"""
