# The full stack (docker/compose.yaml), included by the Makefile: `include docker/stack.mk`.
#   make up      create docker/.env (random secrets) if missing, build the images, start everything
#   make down    stop the stack (volumes kept; `make down V=1` deletes the data too)
#   make logs    follow the logs (`make logs SERVICE=clickhouse` for one service)
# PROFILES=rest adds the Iceberg REST catalog.

COMPOSE ?= docker compose
STACK_DIR := docker
STACK_ENV := $(STACK_DIR)/.env
STACK := $(COMPOSE) -f $(STACK_DIR)/compose.yaml $(if $(PROFILES),--profile $(PROFILES))
SERVICE ?=

.PHONY: up down logs stack-env stack-ps

$(STACK_ENV):
	sh $(STACK_DIR)/make-env.sh $(STACK_ENV)

stack-env: $(STACK_ENV) ## Create docker/.env with random secrets (an existing one is kept)

up: $(STACK_ENV) ## Start the full stack: MinIO, Postgres, ClickHouse, JupyterLab, Dagster (PROFILES=rest: + REST catalog)
	$(STACK) up -d --build
	@echo "JupyterLab  http://127.0.0.1:8889/lab  (token: JUPYTER_TOKEN in $(STACK_ENV))"
	@echo "Dagster     http://127.0.0.1:3030"
	@echo "MinIO       http://127.0.0.1:9001  (console)"
	@echo "ClickHouse  http://127.0.0.1:8123  (BI tools: user bi, CLICKHOUSE_BI_PASSWORD in $(STACK_ENV))"
	@echo "Check it:   $(STACK) exec jupyter rat doctor"

down: ## Stop the full stack (data kept; V=1 also deletes the volumes)
	$(STACK) down $(if $(V),--volumes)

logs: ## Follow the full stack's logs (SERVICE=name for one service)
	$(STACK) logs -f --tail=200 $(SERVICE)

stack-ps: ## Status and health of the full stack's services
	$(STACK) ps
