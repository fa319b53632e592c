"""lm-eval-harness tasks for the experiment's question files: ``lm_eval --include_path`` this folder.

``filterkit_proxy`` / ``filterkit_general`` ask ``Question: ...\\nAnswer:`` (lm-eval's ``mmlu_continuation`` form,
without its ``.strip()`` so the prompt is mc_eval's default template byte for byte); the ``*_cloze`` tasks ask the
bare stem, as the experiment asks its generated questions. Tags: ``filterkit_mc``, ``filterkit_mc_cloze``.
``utils.py`` says where the questions are read from. The folder is a package only so that it ships with filterkit.
"""
