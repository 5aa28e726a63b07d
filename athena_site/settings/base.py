"""Settings shared by every environment; each value can be set by an environment variable."""

from datetime import timedelta

import dj_database_url

from athena_site.settings.env import BASE_DIR, env_bool, env_int, env_list, env_str, load_dotenv

load_dotenv()

# A placeholder that production settings refuse, so a real deployment must set its own.
INSECURE_SECRET_KEY = "django-insecure-athena-development-key-do-not-use-in-production"

SECRET_KEY = env_str("SECRET_KEY") or INSECURE_SECRET_KEY
DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"])
ATHENA_PUBLIC_URL = env_str("ATHENA_PUBLIC_URL", "http://127.0.0.1:8000").rstrip("/")
ATHENA_ENCRYPTION_KEYS = env_list("ATHENA_ENCRYPTION_KEYS")
ATHENA_TRUSTED_PROXIES = env_list("ATHENA_TRUSTED_PROXIES")
ATHENA_OUTBOUND_ALLOWLIST = env_list("ATHENA_OUTBOUND_ALLOWLIST")
ATHENA_OUTBOUND_TIMEOUT_SECONDS = float(env_str("ATHENA_OUTBOUND_TIMEOUT_SECONDS", "10"))
ATHENA_OUTBOUND_MAX_RESPONSE_BYTES = env_int("ATHENA_OUTBOUND_MAX_RESPONSE_BYTES", 10 * 1024 * 1024)
MULTIPLAI_API_URL = env_str("MULTIPLAI_API_URL").rstrip("/")
# Default timeout of one LLM call through the gateway.
ATHENA_LLM_TIMEOUT_SECONDS = float(env_str("ATHENA_LLM_TIMEOUT_SECONDS", "60"))
# Origins that may frame Athena's pages (an embedding Multiplai page); empty denies framing.
ATHENA_EMBED_ORIGINS = env_list("ATHENA_EMBED_ORIGINS")

# Request bodies: the default limit for every route; a view may set `max_body_size` to change it.
ATHENA_MAX_REQUEST_BYTES = env_int("ATHENA_MAX_REQUEST_BYTES", 1024 * 1024)
ATHENA_MAX_JSON_DEPTH = env_int("ATHENA_MAX_JSON_DEPTH", 64)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "corsheaders",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "allauth.socialaccount",
    "allauth.socialaccount.providers.github",
    "allauth.socialaccount.providers.google",
    "allauth.usersessions",
    "oauth2_provider",
    "athena_site",
    "accounts_auth",
    "workspaces",
    "providers",
    "agents",
    "threads",
    "workflows",
]

MIDDLEWARE = [
    "athena_site.middleware.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "athena_site.middleware.RequestBodyLimitMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "athena_site.middleware.FramingMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "allauth.usersessions.middleware.UserSessionsMiddleware",
]

ROOT_URLCONF = "athena_site.urls"
WSGI_APPLICATION = "athena_site.wsgi.application"
APPEND_SLASH = False

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]


def database_config() -> dict:
    """Build the default database from `DATABASE_URL`, or a SQLite file in WAL mode."""
    url = env_str("DATABASE_URL")
    if url:
        config = dj_database_url.parse(url, conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60))
        config["CONN_HEALTH_CHECKS"] = True
        return config
    return {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": BASE_DIR / "db.sqlite3",
        "OPTIONS": {
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
        },
    }


DATABASES = {"default": database_config()}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts_auth.User"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 8}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "media/"
MEDIA_ROOT = BASE_DIR / "media"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# Redis is Celery's broker and the cache when REDIS_URL is set. Without it, tasks run eagerly in
# the web process and the cache is local memory, which suits a single development process.
REDIS_URL = env_str("REDIS_URL")
# The cache may use its own Redis database, so clearing it never touches Celery's queues.
REDIS_CACHE_URL = env_str("REDIS_CACHE_URL") or REDIS_URL
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "athena_site.cache.RedisCache",
            "LOCATION": REDIS_CACHE_URL,
            "KEY_PREFIX": "athena",
            "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = REDIS_URL or "cache+memory://"
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = env_int("CELERY_TASK_SOFT_TIME_LIMIT", 300)
CELERY_TASK_TIME_LIMIT = env_int("CELERY_TASK_TIME_LIMIT", 360)
# A message that is not acknowledged within the visibility timeout is delivered again, so the
# timeout must exceed the longest hard time limit or long tasks would run twice.
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600, "socket_connect_timeout": 2}
CELERY_RESULT_EXPIRES = timedelta(hours=1)
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_BEAT_SCHEDULE = {
    "workflows-reap-executions": {"task": "workflows.reap_executions", "schedule": 15.0},
    "workflows-resume-due-executions": {"task": "workflows.resume_due_executions", "schedule": 5.0},
    "workflows-delete-old-executions": {"task": "workflows.delete_old_executions", "schedule": 3600.0},
}
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True

REST_FRAMEWORK = {
    "DEFAULT_RENDERER_CLASSES": ["athena_site.api.renderers.EnvelopeJSONRenderer"],
    "DEFAULT_PARSER_CLASSES": [
        "athena_site.api.parsers.StrictJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts_auth.authentication.SessionAuthentication",
        "accounts_auth.authentication.MultiplaiAuthentication",
        "accounts_auth.authentication.TokenAuthentication",
    ],
    "DEFAULT_THROTTLE_CLASSES": [
        "athena_site.api.throttling.TokenRateThrottle",
        "athena_site.api.throttling.UserRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "token": env_str("ATHENA_THROTTLE_TOKEN", "600/min"),
        "user": env_str("ATHENA_THROTTLE_USER", "1200/min"),
        "anon": env_str("ATHENA_THROTTLE_ANON", "120/min"),
    },
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "athena_site.api.pagination.EnvelopePagination",
    "PAGE_SIZE": 15,
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.OrderingFilter",
    ],
    "SEARCH_PARAM": "search",
    "ORDERING_PARAM": "ordering",
    "EXCEPTION_HANDLER": "athena_site.api.exceptions.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "athena_site.api.schema.AthenaAutoSchema",
    "DATETIME_FORMAT": "%Y-%m-%dT%H:%M:%S.%fZ",
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Athena API",
    "DESCRIPTION": (
        "REST API of Athena, a self-hostable platform for AI agents and workflow automation. "
        "Single objects are returned as `{data}`, lists as `{data, links, meta}`, and errors as "
        "`{message, code, errors}`."
    ),
    "VERSION": "1.0.0",
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "athena_site.api.schema.add_envelope_components",
        # The public webhook is a plain Django view; this hook adds it to the schema.
        "workflows.api.schema.add_public_webhook_path",
    ],
    "ENUM_NAME_OVERRIDES": {
        "WorkspaceRoleEnum": "workspaces.models.Role",
        "ProviderKindEnum": "providers.models.ProviderKind",
        "AccountStatusEnum": "providers.models.AccountStatus",
        "AgentRunStatusEnum": "agents.models.RunStatus",
        "TrainingJobStatusEnum": "agents.models.JobStatus",
        "MemoryKindEnum": "agents.models.MemoryKind",
        "MessageRoleEnum": "threads.models.MessageRole",
        "OpenAIChatRoleEnum": "threads.api.openai.CHAT_ROLES",
        "ChatMessageRoleEnum": "threads.api.serializers.WRITABLE_ROLES",
        "CommandRoomTaskKindEnum": "workspaces.models.CommandRoomTask.Kind",
        "CommandRoomTaskStatusEnum": "workspaces.models.CommandRoomTask.Status",
        "WorkflowExecutionStatusEnum": "workflows.models.ExecutionStatus",
        "WorkflowNodeRunStatusEnum": "workflows.models.NodeRunStatus",
    },
}

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
if ATHENA_EMBED_ORIGINS:
    # Framed pages send cookies cross-site only with SameSite=None, which requires Secure.
    SESSION_COOKIE_SAMESITE = CSRF_COOKIE_SAMESITE = "None"
    SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/accounts/login/"

# Browser sign-in (django-allauth): email is the login.
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_EMAIL_VERIFICATION = env_str("ACCOUNT_EMAIL_VERIFICATION", "mandatory")
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_SESSION_REMEMBER = None
ACCOUNT_ADAPTER = "accounts_auth.adapters.AccountAdapter"
SOCIALACCOUNT_ADAPTER = "accounts_auth.adapters.SocialAccountAdapter"
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = "Athena"
USERSESSIONS_TRACK_ACTIVITY = True
EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Athena <no-reply@localhost>")
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[Athena] "


def social_providers() -> dict:
    """Enable Google and GitHub login when their client id and secret are set."""
    providers = {}
    for provider in ("google", "github"):
        client_id = env_str(f"{provider.upper()}_CLIENT_ID")
        secret = env_str(f"{provider.upper()}_CLIENT_SECRET")
        if client_id and secret:
            providers[provider] = {"APPS": [{"client_id": client_id, "secret": secret}]}
    return providers


SOCIALACCOUNT_PROVIDERS = social_providers()
SOCIALACCOUNT_ONLY = False

# Failed sign-ins: after this many failures in the window, further attempts get 429.
ATHENA_LOGIN_FAILURE_LIMIT = env_int("ATHENA_LOGIN_FAILURE_LIMIT", 5)
ATHENA_LOGIN_FAILURE_WINDOW_SECONDS = env_int("ATHENA_LOGIN_FAILURE_WINDOW_SECONDS", 15 * 60)
# Failed bearer or Multiplai tokens from one IP before further attempts get 429.
ATHENA_BAD_TOKEN_LIMIT = env_int("ATHENA_BAD_TOKEN_LIMIT", 20)
ATHENA_BAD_TOKEN_WINDOW_SECONDS = env_int("ATHENA_BAD_TOKEN_WINDOW_SECONDS", 5 * 60)
ATHENA_TOKEN_ROTATION_GRACE_SECONDS = env_int("ATHENA_TOKEN_ROTATION_GRACE_SECONDS", 0)
MULTIPLAI_CACHE_SECONDS = env_int("MULTIPLAI_CACHE_SECONDS", 60)
MULTIPLAI_TIMEOUT_SECONDS = float(env_str("MULTIPLAI_TIMEOUT_SECONDS", "5"))
MULTIPLAI_LINK_BY_EMAIL = env_bool("MULTIPLAI_LINK_BY_EMAIL", False)

# Athena as an OAuth2 authorization server (django-oauth-toolkit); scopes are token abilities.
OAUTH2_PROVIDER = {
    "PKCE_REQUIRED": "accounts_auth.oauth.pkce_required",
    # The validator resolves PKCE_REQUIRED's dotted path, which DOT itself would keep as a string.
    "OAUTH2_VALIDATOR_CLASS": "accounts_auth.oauth.AthenaOAuth2Validator",
    "COMPLIANT_BCP_RFC9700_PKCE_METHOD": True,
    "SCOPES_BACKEND_CLASS": "accounts_auth.oauth.AbilityScopes",
    "ROTATE_REFRESH_TOKEN": True,
    "REFRESH_TOKEN_GRACE_PERIOD_SECONDS": 10,
    "ACCESS_TOKEN_EXPIRE_SECONDS": 3600,
    "REFRESH_TOKEN_EXPIRE_SECONDS": 30 * 24 * 3600,
    "ALLOWED_REDIRECT_URI_SCHEMES": ["https", "http"],
}

# Cross-origin API calls (for example from the Multiplai app) only from listed origins.
CORS_ALLOWED_ORIGINS = env_list("ATHENA_CORS_ORIGINS")
CORS_URLS_REGEX = r"^/api/.*$"
CORS_ALLOW_HEADERS = [
    "accept",
    "authorization",
    "content-type",
    "x-csrftoken",
    "x-multiplai-authorization",
    "x-request-id",
    "x-workspace",
]
CORS_EXPOSE_HEADERS = ["x-request-id", "retry-after"]

# Human-readable console logs; production swaps the formatter for one JSON object per line.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "athena_site.logging.RequestIdFilter"}},
    "formatters": {
        "console": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "format": "%(asctime)s %(levelname)s %(name)s %(request_id)s %(message)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        },
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "filters": ["request_id"], "formatter": "console"},
    },
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.request": {"level": "ERROR"},
        "celery": {"level": "INFO"},
    },
}

# Workflows
# Seconds the public webhook waits for a `respond_to_webhook` response before it returns 202.
WORKFLOWS_SYNC_WEBHOOK_TIMEOUT_SECONDS = float(env_str("WORKFLOWS_SYNC_WEBHOOK_TIMEOUT_SECONDS", "30"))
# Run a workflow that responds to its webhook inside the request instead of on a worker.
WORKFLOWS_SYNC_WEBHOOK_INLINE = env_bool("WORKFLOWS_SYNC_WEBHOOK_INLINE", True)
# A node output larger than this (as JSON) is stored as a marker with a truncated preview.
WORKFLOWS_MAX_NODE_OUTPUT_BYTES = env_int("WORKFLOWS_MAX_NODE_OUTPUT_BYTES", 256 * 1024)
# Characters an expression may render; longer results fail the node.
WORKFLOWS_MAX_EXPRESSION_OUTPUT_CHARS = env_int("WORKFLOWS_MAX_EXPRESSION_OUTPUT_CHARS", 100_000)
# A runner holds an execution for this long and renews the lease before every node.
WORKFLOWS_LEASE_SECONDS = env_int("WORKFLOWS_LEASE_SECONDS", 60)
# The reaper re-sends `queued` executions whose message was sent longer ago than this.
WORKFLOWS_QUEUED_RESEND_SECONDS = env_int("WORKFLOWS_QUEUED_RESEND_SECONDS", 120)
# After this many recoveries from lost runners, an execution fails instead of running again.
WORKFLOWS_MAX_RECOVERIES = env_int("WORKFLOWS_MAX_RECOVERIES", 3)
WORKFLOWS_MAX_SUB_WORKFLOW_DEPTH = env_int("WORKFLOWS_MAX_SUB_WORKFLOW_DEPTH", 5)
WORKFLOWS_MAX_LOOP_ITEMS = env_int("WORKFLOWS_MAX_LOOP_ITEMS", 1000)
# Executions older than this many days are deleted by the retention task; 0 keeps them forever.
WORKFLOWS_RETENTION_DAYS = env_int("WORKFLOWS_RETENTION_DAYS", 30)
WORKFLOWS_IDEMPOTENCY_WINDOW_SECONDS = 24 * 3600
WORKFLOWS_SIGNATURE_WINDOW_SECONDS = 300
# Runs allowed through one public workflow link per window, and the window in seconds.
WORKFLOWS_PUBLIC_RUNS_PER_WINDOW = env_int("WORKFLOWS_PUBLIC_RUNS_PER_WINDOW", 20)
WORKFLOWS_PUBLIC_WINDOW_SECONDS = env_int("WORKFLOWS_PUBLIC_WINDOW_SECONDS", 60)
# Seconds `POST workflows/test` and the other test endpoints run an execution in the request
# before they hand the rest to a worker and return 202.
WORKFLOWS_TEST_SYNC_TIMEOUT_SECONDS = float(env_str("WORKFLOWS_TEST_SYNC_TIMEOUT_SECONDS", "30"))
# Test executions older than this many hours are deleted by the test retention task; 0 keeps them.
WORKFLOWS_TEST_RETENTION_HOURS = env_int("WORKFLOWS_TEST_RETENTION_HOURS", 24)
CELERY_BEAT_SCHEDULE["workflows-delete-test-executions"] = {
    "task": "workflows.delete_test_executions",
    "schedule": 900.0,
}
