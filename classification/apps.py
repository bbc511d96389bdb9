from django.apps import AppConfig

from workbench import schedules


class ClassificationConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "classification"
    verbose_name = "Classification"

    def ready(self) -> None:
        # The safety-net drain schedule is created in code, idempotently, after every migrate.
        schedules.ensure_on_migrate(self)

    def dashboard_tiles(self, tenant):
        from django.db.models import Count
        from django.urls import reverse

        from catalog.models import ClassificationStatus, Product
        from classification import selectors
        from classification.review.selectors import review_tiles
        from workbench.dashboard import Tile

        base = reverse("classification:index", args=[tenant.slug])
        needing, blocked = ClassificationStatus.NEEDS_REVIEW, ClassificationStatus.BLOCKED
        counts = dict(
            Product.objects.filter(tenant=tenant, classification_status__in=[needing, blocked])
            .values_list("classification_status")
            .annotate(n=Count("id"))
        )
        tiles = [
            Tile(
                "Open reviews",
                counts.get(needing, 0),
                f"{base}?outcome=needs_review",
                "products whose latest decision needs a broker",
            ),
            Tile(
                "Blocked",
                counts.get(blocked, 0),
                f"{base}?outcome=blocked",
                "products that cannot be classified as they stand",
            ),
        ]
        tiles.extend(review_tiles(tenant, base))
        dead, failed = selectors.dead_and_failed_counts(tenant)
        dead_url = reverse("classification:dead_jobs", args=[tenant.slug])
        if dead:
            tiles.append(Tile("Dead jobs", dead, dead_url))
        if failed:
            tiles.append(
                Tile("Failed re-classifications", failed, dead_url, "the sweep will retry them")
            )
        return tiles

    def object_panels(self, kind, request, obj):
        if kind != "product":
            return []
        from classification import selectors
        from classification.review import selectors as review_selectors
        from workbench.panels import Panel

        decisions = list(selectors.decisions_for_product(obj).select_related("product")[:21])
        panels = []
        review = review_selectors.product_review(obj)
        if review is not None:
            panels.append(Panel("Review", "classification/review/_product_review.html", review))
        panels.append(
            Panel(
                "Decisions",
                "classification/_product_decisions.html",
                {"decisions": decisions[:20], "more": len(decisions) > 20},
            )
        )
        return panels

    def decision_cases(self, tenant, jurisdiction):
        """Final broker decisions as rule-pack backtest cases (for rulepacks, without imports)."""
        from classification.review import selectors as review_selectors

        return review_selectors.final_decision_cases(tenant.pk, jurisdiction)

    def tariff_code_uses(self, tenant, jurisdiction):
        """Final decisions' codes, for the tariffs' page of codes no longer valid."""
        from classification import selectors

        return selectors.final_code_uses(tenant=tenant, jurisdiction=jurisdiction)

    def classify_cases(self, *, tenant, jurisdiction, packs, cases):
        """Rule-pack cases classified as production does, once per pack (for rulepacks)."""
        from classification import selectors

        return selectors.classify_cases(tenant.pk, jurisdiction, packs, cases)

    def products_to_reclassify(self, *, tenant, jurisdiction, pack_id):
        """Products whose open decision predates the active pack ``pack_id`` (for rulepacks)."""
        from classification import selectors

        return selectors.products_decided_before(tenant.pk, jurisdiction, pack_id)

    def reclassify_products(self, *, actor, tenant, product_ids):
        """Queue the products for classification in requests of 100 (for rulepacks)."""
        from classification import services

        return services.products_classify(actor=actor, tenant=tenant, product_ids=product_ids)

    def on_product_changed(self, *, actor, product_id, tenant_id, changed_facts):
        """Classify a product again when an analyst updated facts a broker asked for, or facts
        its decision awaiting review did not see. A task after commit; if it fails,
        ``classification.sweep`` does the same within minutes."""
        from classification.review import services as review_services

        review_services.review_info_received(
            actor=actor, tenant_id=tenant_id, product_id=product_id, changed_facts=changed_facts
        )
        review_services.review_facts_changed(
            actor=actor, tenant_id=tenant_id, product_ids=[product_id]
        )

    def on_catalog_imported(self, *, actor, tenant_id, batch_id):
        """Classify again the products of an import whose new facts a broker asked for, or whose
        decision awaiting review classified older facts (a task after commit, swept as above)."""
        from classification.review import selectors as review_selectors
        from classification.review import services as review_services

        review_services.review_info_received_from_import(
            actor=actor, tenant_id=tenant_id, batch_id=batch_id
        )
        review_services.review_facts_changed(
            actor=actor,
            tenant_id=tenant_id,
            product_ids=review_selectors.products_versioned_by_import(
                tenant_id=tenant_id, batch_id=batch_id
            ),
        )

    def demo_steps(self):
        from classification import demo

        return [demo.classify_demo_catalog]

    def audit_labels(self):
        """Labels of the codes in the classification section, for certificates
        (``audit.renderers.labels``)."""
        from catalog import facts as catalog_facts
        from classification import models
        from classification.templatetags.classification_tags import REJECTION_LABELS
        from rulepacks import routing

        outcomes = dict(models.Outcome.choices)
        return {
            "facts": dict(catalog_facts.LABELS),
            "reasons": dict(routing.REASON_LABELS),
            "override_reasons": dict(models.OverrideReason.choices),
            "actions": dict(models.ActionKind.choices),
            "outcomes": outcomes,
            "statuses": {
                **outcomes,
                models.ReviewStatus.FINAL.value: models.ReviewStatus.FINAL.label,
            },
            "risk_bands": dict(models.RiskBand.choices),
            "rejections": dict(REJECTION_LABELS),
        }

    def audit_export_sections(self, tenant, scope):
        from classification import export

        return export.sections(tenant, scope)
