import { expect, expectAccessible, open, test, type Page } from "./fixtures";

/** Signs in as the demo city administrator, 张伟. */
async function signInAsCityAdmin(page: Page, jsEnabled: boolean): Promise<void> {
  await open(page, "/family", jsEnabled);
  await page.getByRole("link", { name: "使用“我的南京”登录" }).click();
  await page.getByRole("button", { name: /张伟/ }).click();
  await expect(page).toHaveURL(/\/family$/);
}

test("a city administrator adds a place, reads coverage and checks a file", async ({ page, jsEnabled }) => {
  await signInAsCityAdmin(page, jsEnabled);
  const name = jsEnabled ? "【测试】梅园社区亲子室" : "【测试】新街口社区亲子室";

  await open(page, "/admin/places/new", jsEnabled);
  await expectAccessible(page);
  await page.getByLabel("名称").fill(name);
  await page.getByLabel("地址", { exact: true }).fill("长江路1号");
  await page.getByLabel("所在区（如：玄武区）").fill("玄武区");
  await page.getByLabel("纬度").fill("32.0449");
  await page.getByLabel("经度").fill("118.8213");
  await page.getByLabel("坐标系").selectOption("gcj02");
  await page.getByLabel("托位数").fill("20");
  await page.locator("#public_benefit-value").selectOption("yes");
  await page.locator("#public_benefit-source").fill("玄武区卫健委公示");
  await page.locator("#public_benefit-date").fill("2026-11-01");
  await page.getByRole("button", { name: "保存" }).click();
  await expect(page).toHaveURL(/\/places\/\d+$/);
  await expect(page.getByRole("heading", { level: 1, name })).toBeVisible();
  await expect(page.getByText("玄武区卫健委公示")).toBeVisible();
  await expect(page.getByRole("link", { name: "编辑场所信息" })).toBeVisible();

  await open(page, "/admin/coverage", jsEnabled);
  await expect(page.getByRole("heading", { level: 1, name: "托育服务覆盖情况" })).toBeVisible();
  await expect(page.getByRole("rowheader", { name: "玄武区" })).toBeVisible();
  await expectAccessible(page);

  await open(page, "/admin/priority-groups", jsEnabled);
  await expect(page.getByRole("heading", { level: 1, name: "抽签优先群体" })).toBeVisible();
  await expectAccessible(page);

  await open(page, "/admin/places/import", jsEnabled);
  await expectAccessible(page);
  await page.getByLabel("文件", { exact: true }).setInputFiles({
    name: "check.csv",
    mimeType: "text/csv",
    buffer: Buffer.from(
      "category,name,address,district,lng_gcj02,lat_gcj02\n" +
        "kindergarten,检查用幼儿园,检查路1号,玄武区,118.7970,32.0490\n" +
        "kindergarten,坐标有误的幼儿园,检查路2号,玄武区,abc,32.0490\n",
    ),
  });
  await page.getByRole("button", { name: "上传" }).click();
  await expect(page).toHaveURL(/\/admin\/imports\/\d+$/);
  await expect(page.getByText("检查结果（未写入）")).toBeVisible();
  await expect(page.getByRole("cell", { name: "3", exact: true })).toBeVisible();
  await expectAccessible(page);
});

test("a city administrator lists a priority group's members and removes one", async ({ page, jsEnabled }) => {
  const childName = jsEnabled ? "优先测试甲" : "优先测试乙";
  const groupName = jsEnabled ? "测试优先群体甲" : "测试优先群体乙";

  // The demo parent 陈静 (mobile 19900000001) adds the child.
  await open(page, "/family", jsEnabled);
  await page.getByRole("link", { name: "使用“我的南京”登录" }).click();
  await page.getByRole("button", { name: /陈静/ }).click();
  await expect(page).toHaveURL(/\/family$/);
  await page.getByLabel("孩子姓名").fill(childName);
  await page.getByLabel("出生日期").fill("2025-06-01");
  await page.getByRole("checkbox", { name: /单独同意/ }).check();
  await page.getByRole("button", { name: "保存" }).click();
  await expect(page.locator(".child", { hasText: childName })).toBeVisible();
  await open(page, "/account", jsEnabled);
  await page.getByRole("button", { name: "退出登录" }).click();

  await signInAsCityAdmin(page, jsEnabled);
  await open(page, "/admin/priority-groups", jsEnabled);
  await page.getByLabel(/代号/).fill(jsEnabled ? "e2e_with_js" : "e2e_without_js");
  await page.getByLabel("中文名称").fill(groupName);
  await page.getByLabel("英文名称").fill("Test group");
  await page.getByLabel(/抽签顺序/).fill("2");
  await page.getByRole("button", { name: "设立" }).click();
  await expect(page.getByRole("link", { name: groupName })).toBeVisible();
  await page.getByLabel("优先群体").selectOption({ label: groupName });
  await page.getByLabel("监护人手机号").fill("19900000001");
  await page.getByLabel(/孩子姓名/).fill(childName);
  await page.getByRole("button", { name: "登记", exact: true }).click();
  await expect(page.getByRole("alert")).toHaveCount(0);

  await page.getByRole("link", { name: groupName }).click();
  await expect(page).toHaveURL(/\/admin\/priority-groups\/\d+$/);
  await expect(page.getByRole("heading", { level: 1, name: groupName })).toBeVisible();
  const member = page.locator(".roster-entry", { hasText: childName });
  await expect(member).toContainText("个月");
  await expectAccessible(page);

  await member.getByText("移出该群体", { exact: true }).click();
  await member.getByRole("checkbox", { name: new RegExp(childName) }).check();
  await member.getByRole("button", { name: "移出", exact: true }).click();
  await expect(page).toHaveURL(/\/admin\/priority-groups\/\d+\?revoked=\d+$/);
  await expect(page.getByRole("status")).toContainText("已将孩子移出该群体");
  await expect(page.locator(".roster-entry", { hasText: childName })).toHaveCount(0);
  await expectAccessible(page);
});
