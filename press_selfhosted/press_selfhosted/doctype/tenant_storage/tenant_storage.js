frappe.ui.form.on("Tenant Storage", {
	refresh(frm) {
		if (frm.is_new()) return;
		frm.add_custom_button(__("Refresh usage"), () => frm.call("refresh_usage").then(() => frm.reload_doc()));
		frm.add_custom_button(__("Grant own key"), () => frm.call("grant_own_key").then(() => frm.reload_doc()));
		frm.add_custom_button(__("Configure files on the site"), () =>
			frm.call("configure_files").then(() => frm.reload_doc())
		);
	},
});
