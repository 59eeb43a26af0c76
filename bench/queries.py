"""Hand-written query sets for calibrating and checking the relevance score (bench.calibrate).

Every set is split in two by position (even: fit, odd: held out) so the figures reported for
held-out queries never come from queries the calibration saw. The issue's 8 demo queries are
only ever checked, never fitted.

``OFFTOPIC_PYTHON``: questions a Python programmer might ask that the Python 3.11
documentation does not answer (third-party libraries, other languages and tools): hard
negatives for the pyfaq corpus, same domain, different topic. ``OFFTOPIC_GENERAL``: everyday
questions with no software in them. ``EXAMPLES_REAL``: questions the examples/ corpus does
answer, with the file that answers them. ``CODE_REAL``: questions about sleuth's own source
(the code corpus), with the file that answers them.
"""

from __future__ import annotations

OFFTOPIC_PYTHON = [
    "how do I add a column to a pandas dataframe",
    "django migration rollback to a previous version",
    "pytorch cuda out of memory during training",
    "flask blueprint url prefix routing",
    "numpy broadcasting rules for arrays of different shapes",
    "how to center a div with css flexbox",
    "javascript promise then catch chaining",
    "rust borrow checker lifetime error in struct",
    "git rebase interactive squash commits",
    "docker compose volume permission denied",
    "kubernetes pod stuck in crashloopbackoff",
    "react useEffect runs twice in strict mode",
    "matplotlib change the size of a figure",
    "scikit-learn train test split stratified",
    "install tensorflow with gpu support on ubuntu",
    "java null pointer exception stack trace",
    "configure nginx as a reverse proxy for gunicorn",
    "postgres vacuum full locks the table",
    "aws lambda cold start latency",
    "selenium click an element that is not visible",
    "beautifulsoup find all links on a page",
    "requests library ssl certificate verify failed",
    "fastapi dependency injection with pydantic models",
    "celery task retry with countdown",
    "conda environment from a yml file",
    "jupyter notebook kernel keeps dying",
    "sqlalchemy many to many relationship",
    "poetry lock file out of date",
    "go goroutine leak detection",
    "kotlin coroutines vs threads on android",
    "vim search and replace across files",
    "bash loop over lines of a file",
    "excel vlookup returns n/a",
    "regex to validate an email address in javascript",
    "typescript generic constraint keyof",
    "c++ undefined reference to vtable",
    "spark dataframe groupby aggregation",
    "redis cache eviction policy lru",
    "opencv read a video frame by frame",
    "webpack bundle size too large",
    "elasticsearch mapping for a keyword field",
    "pip install fails building wheel for lxml on windows",
    "heroku deploy python app procfile",
    "keras early stopping callback patience",
    "mongodb aggregate pipeline lookup",
    "pygame sprite collision detection",
    "tkinter ttk treeview column width",
    "scrapy spider follow pagination links",
    "airflow dag schedule interval cron",
    "terraform state lock error",
    "graphql resolver n+1 problem",
    "android studio gradle sync failed",
    "swift optional unwrapping with guard let",
    "css grid auto fill minmax",
    "linux find files larger than 100mb",
    "ssh key permissions too open",
    "transformers huggingface tokenizer padding side",
    "dask dataframe out of memory",
    "streamlit rerun on button click",
    "openpyxl write formulas to an excel sheet",
]

OFFTOPIC_GENERAL = [
    "how to knit a scarf for beginners",
    "best time of year to visit japan",
    "symptoms of vitamin d deficiency",
    "how to change a flat car tire",
    "the capital of mongolia",
    "who won the football world cup in 1998",
    "football transfer window rumours",
    "quantum chromodynamics lattice gauge theory",
    "how to make pizza dough from scratch",
    "train a puppy to stop biting",
    "what causes the northern lights",
    "how many calories in a banana",
    "tips for running a first marathon",
    "how to remove red wine stains from carpet",
    "photosynthesis light dependent reactions",
    "mortgage interest rates forecast",
    "how to grow orchids indoors",
    "history of the roman empire decline",
    "best hiking boots for wide feet",
    "how to tie a bow tie",
    "causes of the french revolution",
    "how to lower blood pressure naturally",
    "recipe for chicken tikka masala",
    "how do volcanoes form",
    "learn to play guitar chords",
    "wedding speech ideas for the best man",
    "how to fix a leaking faucet",
    "meaning of the tarot death card",
    "chess opening for beginners with white",
    "how to meditate to reduce anxiety",
    "solar panel installation cost per watt",
    "how to write a cover letter",
    "migration patterns of monarch butterflies",
    "how to clean a cast iron pan",
    "symptoms of a heart attack in women",
    "why is the sky blue",
    "best stretches for lower back pain",
    "how to paint a room without streaks",
    "rules of cricket explained",
    "how long to boil an egg",
    "the plot of pride and prejudice",
    "how to save money on groceries",
    "what is the tallest mountain in africa",
    "baby sleep schedule for a six month old",
    "how to get rid of fruit flies",
    "origami crane step by step",
    "how to apply for a passport",
    "difference between a crocodile and an alligator",
    "how to brew a cold brew coffee",
    "when do cherry blossoms bloom in washington",
]

# The demo queries on examples/: checked, never fitted.
DEMO_NONSENSE = [
    "quantum chromodynamics lattice gauge",
    "football transfer window rumours",
    "how to knit a scarf",
    "the capital of mongolia",
]
DEMO_REAL = {
    "how do I reset a forgotten password": "account-recovery.md",
    "bake bread with wild yeast starter": "sourdough.txt",
    "retry a failing network call": "retry.py",
    "hotel allowance when travelling": "travel-policy.pdf",
}

EXAMPLES_REAL = {
    "unlock an account after too many wrong passwords": "account-recovery.md",
    "lost my phone with the authenticator app": "account-recovery.md",
    "when should I sow tomato seeds": "garden.md",
    "get rid of aphids on young plants": "garden.md",
    "why is the quarterly budget over plan": "meeting-2026-03-02.md",
    "when does the release freeze start": "meeting-2026-03-02.md",
    "how long does bulk fermentation take": "sourdough.txt",
    "oven temperature for a dutch oven loaf": "sourdough.txt",
    "sum the sales amount per region from a csv": "sales_report.py",
    "which month had the highest revenue": "sales_report.py",
    "exponential backoff with jitter": "retry.py",
    "how many times to retry a connection error": "retry.py",
    "book flights through the company portal": "travel-policy.pdf",
    "deadline for submitting an expense claim": "travel-policy.pdf",
    "who approves business trips": "travel-policy.pdf",
    "hire a front-end developer": "meeting-2026-03-02.md",
}

# Questions about sleuth's own code (cli/, indexer/, store/, extractors/).
CODE_REAL = {
    "parse the lines option A-B of similar": "similar_cmd.py",
    "read .gitignore patterns and match paths": "ignore.py",
    "split a document into chunks that fit the model's tokens": "chunking.py",
    "extract text from pdf pages": "pdf.py",
    "reciprocal rank fusion of dense and lexical results": "search.py",
    "stop recomputing candidates once none can enter the top k": "recompute.py",
    "write a file atomically with a temporary file and rename": "manifest.py",
    "lock file so that two writers cannot change the index": "lock.py",
    "watch a folder for file changes and debounce events": "watcher.py",
    "bm25 score over the fts5 table": "lexical.py",
    "exit codes like grep": "exitcodes.py",
    "filter results by modification date": "filters.py",
    "load the gguf embedding model with llama cpp": "embedder.py",
    "sha256 of the model file": "model.py",
    "cache of recomputed vectors in sqlite": "cache.py",
    "highlight the lines of a snippet that best match the query": "snippets.py",
    "detect binary files and skip them while crawling": "discovery.py",
    "extract text from a docx document": "docx.py",
    "status of the index files chunks and size on disk": "status_cmd.py",
    "ctrl-c during import prints one line": "interrupts.py",
}


# Questions about the 8-PDF corpus (bench.derived_corpora: R manuals, Debian FAQ), in words
# of their own, with the manual that answers them.
PDF_REAL = {
    "why are two floating point numbers that look equal reported as different": "R-FAQ.pdf",
    "read a comma separated file of data into a data frame": "R-data.pdf",
    "install R from its source code on a unix machine": "R-admin.pdf",
    "write the documentation files for the functions of my package": "R-exts.pdf",
    "when are the arguments of a function evaluated (promises)": "R-lang.pdf",
    "how are R objects laid out in memory internally": "R-ints.pdf",
    "a first session: make a vector and draw a simple plot": "R-intro.pdf",
    "upgrade a Debian system to the next release": "debian-faq.pdf",
    "call compiled C code from R": "R-exts.pdf",
    "import data saved by SPSS or SAS": "R-data.pdf",
    "choose a CRAN mirror and install add-on packages for all users": "R-admin.pdf",
    "why is the language called R and who develops it": "R-FAQ.pdf",
    "what are the code names of the Debian releases": "debian-faq.pdf",
    "fit a linear regression model and look at its summary": "R-intro.pdf",
    "how does the garbage collector work": "R-ints.pdf",
    "which tools install and remove packages on Debian": "debian-faq.pdf",
}

# Identifiers no corpus of the calibration defines or mentions (checked with grep): asked
# as "where is X defined", they must find nothing relevant.
OFFTOPIC_IDENTIFIERS = [
    "fetch_user_profile",
    "UserSessionManager",
    "render_html_template",
    "KafkaConsumerGroup",
    "retry_with_jitter",
    "parse_invoice_total",
    "S3BucketPolicy",
    "get_auth_token",
    "OrderRepository",
    "compute_tax_rate",
    "send_welcome_email",
    "ImageResizer",
    "validate_credit_card",
    "PaymentGateway",
    "load_user_prefs",
    "redis_pool_size",
    "GraphQLResolver",
    "build_docker_image",
    "normalize_phone_number",
    "JwtTokenValidator",
]
IDENTIFIER_TEMPLATES = ("{}", "where is {} defined")


def split(items: list[str]) -> tuple[list[str], list[str]]:
    """(fit, held out): even positions fit, odd positions are held out."""
    return items[0::2], items[1::2]
